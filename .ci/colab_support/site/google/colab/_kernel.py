"""Colab's kernel class: ipykernel's, with Colab's shell."""

from ipykernel.ipkernel import IPythonKernel
from traitlets import Type

from google.colab import _shell


class Kernel(IPythonKernel):
    shell_class = Type(_shell.Shell)
