"""What leaves the package: figures, result folders, XDMF field series and checkpoints.

Modules here know how results look, never how they were computed.
"""
