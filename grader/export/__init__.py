"""`grade export PLATFORM EXERCISE`: one exercise's grader packaged for a course
platform that grades each submission in a fresh container (Gradescope), and
what runs in that container for each submission (`grade export run`)."""
