"""Colab's kernel runs a shell class of its own, ``google.colab._shell.Shell``."""

from ipykernel.zmqshell import ZMQInteractiveShell


class Shell(ZMQInteractiveShell):
    pass
