"""A conditional GAN on pixel clusters as an unconditional generator (issue 11, a candidate not kept).

A simplified form of Liu et al.'s self-conditioned GAN (CVPR 2020): the training images are
clustered once with k-means on their pixels (no labels, and not the features the evaluation uses),
``cgan`` trains on the cluster ids as classes, and samples draw a cluster with its training
frequency, so the whole is an unconditional generator. (Liu et al. re-cluster D's features during
training.) Three steps, the middle one gankit's own:

    python benchmarks/cluster_conditioned.py cluster 30 --out R/fashion-km30.npz
    gankit train cgan --data npz:R/fashion-km30.npz --seed 0 --minutes 10 --out R/km30
    python benchmarks/cluster_conditioned.py sample R/km30 R/fashion-km30.npz --out R/km30.npy
    gankit eval --samples R/km30.npy --data fashion-mnist --metrics fid,kid,pr,dc

Results: ``benchmarks/RESULTS.md``, "Cluster-conditioned cgan as an unconditional generator".
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def cluster(args) -> None:
    from sklearn.cluster import MiniBatchKMeans

    from gankit.data import load_dataset

    data = load_dataset(args.data, "train", store="memory")
    x = np.asarray(data.x)
    start = time.perf_counter()
    kmeans = MiniBatchKMeans(args.k, random_state=args.seed, batch_size=4096, n_init=3)
    y = kmeans.fit(x.reshape(len(x), -1).astype(np.float32) / 255).labels_.astype(np.int64)
    sizes = np.bincount(y, minlength=args.k)
    print(f"{args.k} clusters of {len(x)} images in {time.perf_counter() - start:.1f} s; sizes {sizes.min()}-{sizes.max()}")
    if data.y is not None:  # how class-like the clusters are, for the table only
        counts = np.zeros((args.k, int(np.max(data.y)) + 1))
        np.add.at(counts, (y, np.asarray(data.y)), 1)
        print(f"purity against the true classes: {counts.max(1).sum() / len(y):.3f}")
    np.savez(args.out, x=x, y=y)
    print(f"wrote {args.out} (x, y = cluster id): train on it with --data npz:{args.out}")


def sample(args) -> None:
    import gankit

    clusters = np.load(args.clusters)["y"]
    frequency = np.bincount(clusters) / len(clusters)
    labels = np.random.default_rng(args.seed).choice(len(frequency), size=args.n, p=frequency)
    x = gankit.load(args.run).sample_array(args.n, seed=args.seed, labels=labels)
    np.save(args.out, x)
    print(f"wrote {args.out}: {x.shape[0]} samples, clusters drawn with their training frequencies")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cluster", help="k-means on the training images' pixels -> an npz with cluster labels")
    c.add_argument("k", type=int, help="number of clusters")
    c.add_argument("--data", default="fashion-mnist", help="dataset to cluster (default: fashion-mnist)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", required=True, help="the .npz to write")
    c.set_defaults(func=cluster)
    s = sub.add_parser("sample", help="samples of a run trained on clusters, clusters drawn by frequency")
    s.add_argument("run", help="the cgan run trained on the clusters")
    s.add_argument("clusters", help="the .npz it trained on")
    s.add_argument("-n", type=int, default=10_000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="the .npy to write (for gankit eval --samples)")
    s.set_defaults(func=sample)
    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
