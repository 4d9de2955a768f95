"""Build script: cythonizes the matcher unless told not to.

NETPOLICY_NO_EXTENSIONS=1       build pure Python only.
NETPOLICY_REQUIRE_EXTENSIONS=1  a failed compile fails the build (CI sets it).
"""
import os
import sys

from setuptools import Extension, setup

NO_EXTENSIONS = os.environ.get("NETPOLICY_NO_EXTENSIONS") == "1"
REQUIRE_EXTENSIONS = os.environ.get("NETPOLICY_REQUIRE_EXTENSIONS") == "1"
if NO_EXTENSIONS and REQUIRE_EXTENSIONS:
    sys.exit("NETPOLICY_NO_EXTENSIONS and NETPOLICY_REQUIRE_EXTENSIONS contradict each other")

PYX = os.path.join("netpolicy", "_fastmatch.pyx")


def extensions():
    if NO_EXTENSIONS or not os.path.exists(PYX):
        print("netpolicy: pure Python build", file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE_EXTENSIONS:
            raise
        print("netpolicy: Cython missing, pure Python build", file=sys.stderr)
        return []
    print("netpolicy: accelerated build", file=sys.stderr)
    ext = Extension("netpolicy._fastmatch", [PYX], optional=not REQUIRE_EXTENSIONS)
    return cythonize([ext], language_level=3, compiler_directives={"embedsignature": True})


setup(ext_modules=extensions())
