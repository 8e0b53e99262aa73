"""A notebook-style tour of ``dam`` on scikit-learn's digits (8×8 images).

    python3 python/examples/digits.py [OUT_DIR]

1. train ``dam.Classifier`` and compare it with a scikit-learn classifier
   on the same split;
2. export the model as C for a microcontroller;
3. draw some of its memories, and a ``dam.Memory`` completing a digit,
   with matplotlib (Agg backend: files only, no display).

Everything it writes goes to OUT_DIR (default: a new temporary directory);
the last line printed is a JSON summary (``python/tests/test_examples.py``
runs this script and reads it). The data ship with scikit-learn: nothing is
downloaded.
"""

# %% Setup
import json
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import dam  # noqa: E402

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="dam-digits-"))
out.mkdir(parents=True, exist_ok=True)

X, y = load_digits(return_X_y=True)  # 1 797 images, pixels 0–16
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

# %% 1. A Dense Associative Memory classifier against logistic regression
clf = dam.Classifier(seed=0, epochs=60).fit(X_train, y_train)
dam_accuracy = clf.score(X_test, y_test)
reference = LogisticRegression(max_iter=2000).fit(X_train, y_train)
sk_accuracy = reference.score(X_test, y_test)
print(f"dam.Classifier     test accuracy {dam_accuracy:.3f} ({clf.memories_.shape[0]} memories)")
print(f"LogisticRegression test accuracy {sk_accuracy:.3f}")

# %% 2. Export for firmware: digits.c and digits.h (i8 model + classify())
print(clf.export(out / "digits", quantize="i8", format="c"))
exported = sorted(p.name for p in out.glob("digits.*"))

# %% 3a. Some memories: the feature part of each row, as an 8×8 image
memories = clf.memories_
features = memories[:, : clf.n_features_in_]
labels = memories[:, clf.n_features_in_ :]
shown = min(16, len(memories))
fig, axes = plt.subplots(2, shown // 2, figsize=(shown // 2, 2.4))
for ax, mu in zip(axes.flat, range(shown)):
    ax.imshow(features[mu].reshape(8, 8), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title(str(clf.classes_[labels[mu].argmax()]), fontsize=8)
    ax.axis("off")
fig.suptitle("dam.Classifier memories (title: strongest label unit)")
memories_png = out / "memories.png"
fig.savefig(memories_png, dpi=80)
plt.close(fig)

# %% 3b. A bipolar Memory of one digit per class completes a half-seen digit
prototypes = np.stack([X_train[y_train == c].mean(axis=0) for c in range(10)])
patterns = np.where(prototypes > 4, 1.0, -1.0)
memory = dam.Memory(patterns, kind="bipolar", interaction="polynomial", degree=6)
cue = patterns[3].copy()
cue[32:] = -1.0  # the bottom half unknown (blank)
known = np.arange(64) < 32
completed = memory.recall(cue, known)
completion_ok = bool((completed == patterns[3]).all())
fig, axes = plt.subplots(1, 3, figsize=(4.5, 1.8))
for ax, image, title in zip(axes, (patterns[3], cue, completed), ("stored", "cue", "recalled")):
    ax.imshow(np.asarray(image).reshape(8, 8), cmap="gray_r", vmin=-1, vmax=1)
    ax.set_title(title, fontsize=8)
    ax.axis("off")
completion_png = out / "completion.png"
fig.savefig(completion_png, dpi=80)
plt.close(fig)
print(f"figures: {memories_png}, {completion_png}")

# %% Summary
print(
    json.dumps(
        {
            "dam_accuracy": dam_accuracy,
            "sklearn_accuracy": sk_accuracy,
            "exported": exported,
            "figures": [str(memories_png), str(completion_png)],
            "completion_ok": completion_ok,
        }
    )
)
