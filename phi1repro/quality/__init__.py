"""The quality filter: teacher annotation, embeddings, classifier, scoring."""
