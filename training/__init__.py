"""neurotwin training: the deep-network twin of the Hay et al. 2011 L5 pyramidal neuron
(Beniaguev, Segev & London 2021). Modules: `data` (dataset reader, windows, targets), `model`
(causal TCN, sparse first layer), `train` (schedule, checkpoints, resume), `metrics` and
`evaluate` (the paper's protocol), `export` (ONNX + metadata + parity vector), `cli`.
Run ``python -m training --help`` from the repository root."""
