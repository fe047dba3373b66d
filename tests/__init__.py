"""The tests, laid out as the package is: tests/<package>/ holds the tests of phi1repro/<package>/
(test_<module>.py for phi1repro/<package>/<module>.py); the tests of top-level modules and of the whole
workflow are here. Every directory is a package, so a test module imports another's helpers by its full
name (`from tests.corpus.test_readers import stack_row`), whichever tests run and in whatever order."""
