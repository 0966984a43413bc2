def submission_notes(pkg, found, skipped):
    return "x"
def notes_rule(body, pkg):
    return []
