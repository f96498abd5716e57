"""Training: leak-free splits, in-fold resampling, search, threshold, evaluation."""
