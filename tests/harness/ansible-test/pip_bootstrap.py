"""Stand-in for the pip bootstrap script ansible-test downloads (which this network cannot reach).

ansible-test runs it with the target virtualenv's Python as
``python get_pip_X.py [pip options] pip==X [packages] [--no-setuptools] [--no-wheel]``.
It installs the pip that ships with this Python (ensurepip), then lets that pip install the
requested packages from the package index.
"""
import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)


if __name__ == "__main__":
    main()
