"""The app: configuration, the stacks built from it, the synth summary and output folder."""
