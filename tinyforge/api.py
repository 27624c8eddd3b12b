"""The scriptable surface of tinyforge. Every CLI command is one call here; scripts and tests use
these functions directly. Heavy modules are imported inside the functions, so importing
`tinyforge.api` stays cheap (and never imports TensorFlow).

Each section below belongs to one stage; add functions to your stage's section.
"""

from __future__ import annotations

# ==== boards ==================================================================

# ==== inspect =================================================================

# ==== convert =================================================================

# ==== compile / host test =====================================================

# ==== build / emulator test ===================================================

# ==== emulate / flash =========================================================

# ==== monitor =================================================================

# ==== bench ===================================================================
