"""The desk's business core: models, settings, actions, importers and the admin CLI."""
