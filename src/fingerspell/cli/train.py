"""`fingerspell train`: train a model on an imported dataset, train a recipe file, or resume a killed run."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model on a dataset (or --resume a run)",
        description="Train a registered model on a dataset's train split (val split for model selection; one is "
        "carved from train when the dataset has none). Options come from train/defaults.yaml, then --config FILE, "
        "then KEY=VALUE overrides (e.g. epochs=5 lr=0.001 augment.hflip=0.5). The run folder under "
        "FINGERSPELL_HOME/runs holds best/last checkpoints (safetensors + JSON), curves.png, TensorBoard events "
        "and train.log. Multi-GPU: torchrun --nproc_per_node=N -m fingerspell train ...",
        epilog="examples:\n  fingerspell train --data sign-mnist --model letters-cnn epochs=12\n"
               "  fingerspell train --resume letters-cnn_sign-mnist_e12_ssr+bc\n"
               "  fingerspell train --recipe recipes/default.yaml    # the shipped default model (then: export)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="dataset name (see `fingerspell data list`)")
    parser.add_argument("--model", help="model name (see `fingerspell models`)")
    parser.add_argument("--config", help="YAML file with keys from the defaults")
    parser.add_argument("--recipe", metavar="FILE",
                        help="a recipe file (model, labels, data list, training; see recipes/default.yaml): trains "
                        "a landmark model on several datasets, sampled equally per epoch; KEY=VALUE overrides its train keys")
    parser.add_argument("--resume", metavar="RUN", help="continue RUN (name or folder) from its last checkpoint")
    parser.add_argument("--nproc", type=int, default=1, help="train with N local processes under DDP (gloo on CPU)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fingerspell.errors import ConfigError

    if args.recipe:
        if args.resume or args.data or args.model or args.config or args.nproc > 1:
            raise ConfigError("--recipe takes only KEY=VALUE overrides: the recipe names its data, model and settings")
        from fingerspell.train.recipe_run import train_recipe

        result = train_recipe(args.recipe, args.overrides)
        print(f"trained {result.epochs_done} epochs: accuracy on its own training data "
              f"{result.best.get('train_top1', 0):.2%}")
        print(f"run: {result.path}")
        return 0
    if args.resume:
        if args.data or args.model or args.overrides or args.config:
            raise ConfigError("--resume takes only the run: its data, model and config are the saved ones")
        from fingerspell.train.loop import resume

        result = resume(args.resume)
    else:
        if not args.data or not args.model:
            raise ConfigError("train needs --data NAME and --model NAME (or --resume RUN)")
        from fingerspell.train.config import parse_overrides

        overrides = parse_overrides(args.overrides)
        if args.nproc > 1:
            from fingerspell.train.spawn import spawn_train

            result = spawn_train(args.nproc, args.data, args.model, args.config, **overrides)
        else:
            from fingerspell.train.loop import train

            result = train(args.data, args.model, args.config, **overrides)
    import os

    if os.environ.get("RANK", "0") != "0":
        return 0  # under torchrun only rank 0 reports
    best = result.best
    if best:
        print(f"best epoch {best.get('epoch')}: val acc {best.get('val_acc', 0):.2%}")
    print(f"run: {result.path}")
    return 0
