"""Recipes: the scripted steps that rebuild jaxtts's own voice (`python -m jaxtts.recipes.NAME`)."""
