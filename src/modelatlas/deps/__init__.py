"""Dependencies: what model versions require, whether an environment satisfies them, one
environment for several, and what a change would break."""
