"""Stand-in for Colab's ``colab_kernel_launcher``: the kernel imports ``google.colab`` first,
so every notebook finds it in ``sys.modules``; a Drive the learner has mounted (the Files pane's
*Mount Drive*) is there from the start when $COLAB_STANDIN_DRIVE is set."""

import os

import google.colab  # noqa: F401  (Colab's kernel has it imported before the first cell)
from google.colab import _kernel, drive

content = os.environ.get("ASL_COURSE_COLAB_CONTENT")
if content and os.environ.get("COLAB_STANDIN_DRIVE"):
    mountpoint = os.path.join(content, "drive")
    if not os.path.lexists(mountpoint):
        drive._link(mountpoint)

if __name__ == "__main__":
    from ipykernel import kernelapp

    kernelapp.IPKernelApp.launch_instance(kernel_class=_kernel.Kernel)
