"""What leaves the package: figures and result folders (later XDMF series and checkpoints).

Modules here know how results look, never how they were computed.
"""
