"""The suite's password-hashing cost (see tests/conftest.py): argon2id at its smallest, for the
development servers and commands the tests start. Production ones keep the product's costs."""

CHEAP_HASHING = {
    "FRONTLINE_PASSWORD_HASH_MEMORY_KIB": "64",
    "FRONTLINE_PASSWORD_HASH_ITERATIONS": "1",
    "FRONTLINE_PASSWORD_HASH_PARALLELISM": "1",
}
