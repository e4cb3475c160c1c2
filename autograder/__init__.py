"""The course's autograder: broker access, checks and feedback."""
