"""The target: one deployment as a TOML file, validated section by section (a module each), and its loader."""
