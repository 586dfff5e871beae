"""What the bot does for a landscape, whoever asks: a webhook handler, a `/bootstrap` command or
the resync loop. Each flow is an ensure: run again on the same state, it changes nothing.

- `pull_request`: re-render a pull request into a landscape branch, commit, report;
- `landscape_branch`: propose the re-render of a stale landscape branch in a pull request;
- `repository`: a repository's landscapes, their branches and open pull requests, caught up;
- `commands`: the `/bootstrap` commands of one comment.
"""
