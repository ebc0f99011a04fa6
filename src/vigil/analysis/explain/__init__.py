"""Explanations, computed: permutation importance, SHAP contributions, and the typed results that
hold them. Pure: a model object and rows in, typed results out."""
