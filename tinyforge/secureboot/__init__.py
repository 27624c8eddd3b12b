"""Signed images (issue 16): MCUboot's image format made and checked with imgtool, for the two
application slots of the emulated bench's secure bootloader. The update over AN3155 itself is a
flash stage: tinyforge/flash/ab_update.py.

    layout.py      the board's slot layout (board profile -> SlotLayout), trailer offsets
    keys.py        Ed25519 keys: public key and key id from a PEM file, never the key bytes in output
    mcuboot.py     the image format: header, TLVs, version, trailer magic; parse and verify in Python
    sign.py        `tinyforge sign`: a build directory's firmware.bin -> firmware.signed.bin (imgtool)
    status.py      the bootloader's status block (what each slot holds, which one boots)
    bootloader.py  what the bootloader built with a key adds, and the secure bench's QEMU options
"""
