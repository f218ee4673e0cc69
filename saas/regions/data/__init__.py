"""Data files of the municipality list (see ../SOURCES.md); a package so that setuptools
package-data globs include them in a wheel."""
