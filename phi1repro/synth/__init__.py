"""The synthetic data stage: textbooks and CodeExercises from a teacher, validated and measured."""
