#!/usr/bin/env python3
"""Regenerates the small fixtures the Datasets tests read when the shared data is absent.

Run once from the package root (standard library only):

    python3 Tests/DatasetsTests/Fixtures/make_fixtures.py [DATA_ROOT]

DATA_ROOT defaults to ../shared/data. It writes, next to this script:
  mnist/t10k-images-idx3-ubyte.gz   the first 100 MNIST test images as gzipped IDX
  mnist/t10k-labels-idx1-ubyte.gz   their 100 labels
  sklearn-digits/digits.csv.gz      the first 100 rows of scikit-learn's digits CSV
The gzip headers carry mtime 0 and no file name, so reruns give identical bytes.
"""
import gzip
import os
import sys

COUNT = 100
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data")


def write_gzip(relative_path, payload):
    path = os.path.join(HERE, relative_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(payload)
    print(f"{relative_path}: {os.path.getsize(path)} bytes")


def read_gzip(relative_path):
    with gzip.open(os.path.join(ROOT, relative_path), "rb") as f:
        return f.read()


images = read_gzip("mnist/t10k-images-idx3-ubyte.gz")
labels = read_gzip("mnist/t10k-labels-idx1-ubyte.gz")
rows = int.from_bytes(images[8:12], "big")
cols = int.from_bytes(images[12:16], "big")
write_gzip("mnist/t10k-images-idx3-ubyte.gz",
           images[0:4] + COUNT.to_bytes(4, "big") + images[8:16] + images[16:16 + COUNT * rows * cols])
write_gzip("mnist/t10k-labels-idx1-ubyte.gz",
           labels[0:4] + COUNT.to_bytes(4, "big") + labels[8:8 + COUNT])

digits = read_gzip("sklearn-digits/digits.csv.gz").decode("ascii").splitlines()
write_gzip("sklearn-digits/digits.csv.gz", ("\n".join(digits[:COUNT]) + "\n").encode("ascii"))
