"""Raw data: reading sources, the contract's rules, quarantine reports, reference data and generated
samples."""
