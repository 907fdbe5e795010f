"""Stand-in for ``google.colab.drive``: the learner's Drive is $COLAB_STANDIN_DRIVE (holding
``MyDrive/``). ``mount`` asks the learner for access on Colab: here it succeeds only when the
run plays a learner who grants it (COLAB_STANDIN_DRIVE_GRANT=1), else raises at once."""

import os

from google.colab import StandInPrompt, _log


def _is_mounted(mountpoint):
    return os.path.isdir(os.path.join(mountpoint, "MyDrive"))


def _link(mountpoint):
    os.symlink(os.path.abspath(os.environ["COLAB_STANDIN_DRIVE"]), mountpoint, target_is_directory=True)


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    mountpoint = os.path.expanduser(mountpoint)
    granted = os.environ.get("COLAB_STANDIN_DRIVE_GRANT") == "1" and os.environ.get("COLAB_STANDIN_DRIVE")
    _log("drive.mount", mountpoint=mountpoint, granted=bool(granted))
    if _is_mounted(mountpoint) and not force_remount:
        print(
            f"Drive already mounted at {mountpoint}; to attempt to forcibly remount, call "
            f'drive.mount("{mountpoint}", force_remount=True).'
        )
        return
    if not granted:
        raise StandInPrompt(
            "google.colab stand-in: drive.mount() waits for the learner to allow access to "
            "Google Drive (up to timeout_ms); this run has no learner (set "
            "COLAB_STANDIN_DRIVE_GRANT=1 and COLAB_STANDIN_DRIVE to play one who allows it)."
        )
    if os.path.islink(mountpoint):
        os.unlink(mountpoint)
    _link(mountpoint)
    print(f"Mounted at {mountpoint}")


def flush_and_unmount(timeout_ms=86400000):
    _log("drive.flush_and_unmount")
