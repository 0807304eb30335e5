"""The app: configuration, the stacks built from it, the synth summary and output folder."""

from constructs_lib import framework

# Before any module of the app imports cdktf's names (constructs_lib/framework.py).
framework.install()
