"""Small building blocks shared by the networks (one file per block)."""
