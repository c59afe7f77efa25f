"""The build: parameter files → validated parameters → data → executed notebooks → published
variants (runner, batch), their manifests and the index page. Sits above the reports."""
