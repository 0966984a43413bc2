"""Building the .difypkg: files, archive, signature, the checks the daemon and Marketplace apply, and the
offline packages with their wheels (`make package`, `make package-offline`)."""
