"""Our own implementation of the Dify Marketplace's pre-checks for a built .difypkg.

A submission is a pull request to langgenius/dify-plugins; its pre-check workflow runs the
validators of langgenius/dify-marketplace-toolkit. This package re-implements the rules that apply
to a model plugin (written from reading them, sharing no code), so `make marketplace-check` tells
us before a submission what the reviewers' robots will say, and writes the pull-request body.
Rules that need the network beyond the package index are listed as skipped, with the reason.
"""
