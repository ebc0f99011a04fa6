"""What every result shares for people: the notebook display (`_repr_html_`, a one-line `repr`,
`to_pandas()`), its tones and small inline charts. Each result's own renderer lives beside it."""
