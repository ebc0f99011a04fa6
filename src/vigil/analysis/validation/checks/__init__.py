"""The built-in validation checks, one small module per family. Register new ones in
`vigil.analysis.validation.registry`."""
