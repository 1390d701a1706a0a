"""Views of labelled policies for people: the policy report and the diff of two versions (HTML, JSON, text)."""
