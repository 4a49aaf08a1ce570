"""Cross-cutting steps every vendor route goes through, one module each."""
