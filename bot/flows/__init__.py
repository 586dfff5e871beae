"""What the bot does for a landscape, whoever asks: a webhook handler, a `/bootstrap` command or
the resync loop. Each flow is an ensure: run again on the same state, it changes nothing.

- `scope`: the landscape a flow works on (`LandscapeScope`), built once where the work starts;
- `pull_request`: re-render a pull request into a landscape branch, commit, report;
- `landscape_branch`: propose the re-render of a stale landscape branch in a pull request;
- `upgrade`: propose a newer openMCP release, and record a declined one;
- `target`, `git_credentials`, `deploy`, `dry_run`: the cluster a commit goes to, Flux's git
  Secret, the apply and its report, the server-side dry run;
- `repository`: a repository's landscapes, their branches and open pull requests, caught up;
- `commands`: the `/bootstrap` commands of one comment;
- `checks`, `bot_branch`: check runs (never left in progress) and the bot's own branches.

Layer rule: imports services, adapters, core, ocm, settings and kit; never handlers, server or
cli. Errors are caught by type (`bot.core.failures`), never by a tuple of classes.
"""
