"""Makes a cdktf Python synth fast without changing its output: only the provider modules a
stack uses are loaded (in Python and in node), and each jsii call costs less. It depends on
nothing of this repo, and nothing in constructs_lib depends on it; programs call
`fast_synth.provider_loader.install()` first (docs/performance.md)."""
