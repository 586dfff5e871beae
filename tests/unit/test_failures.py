"""Every error the bot defines is the user's (`Failure`) or a peer's (`Temporary`), never both;
what is neither is a bug by definition."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import bot
import handlers
from bot.core.failures import Failure, Location, Temporary

#: exceptions used as control flow inside one module, never seen outside it
SIGNALS = {
    "bot.gotemplate.executor._Break",
    "bot.gotemplate.executor._Continue",
    "bot.core.render.NeedsVersionLists",
    "bot.flows.upgrade._Stop",
    "bot.ocm.transfer._Unplanned",
}


def defined_exceptions() -> list[type[BaseException]]:
    found = []
    for package in (bot, handlers):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name == "bot.__main__":
                continue
            module = importlib.import_module(info.name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                    found.append(obj)
    return found


def test_every_error_is_the_users_or_a_peers():
    errors = defined_exceptions()
    assert len(errors) > 40
    unclassified = [
        f"{e.__module__}.{e.__qualname__}"
        for e in errors
        if f"{e.__module__}.{e.__qualname__}" not in SIGNALS
        and issubclass(e, Failure) == issubclass(e, Temporary)
    ]
    assert unclassified == []


def test_the_outages_are_temporary():
    from bot.adapters.cluster import ClusterUnavailable
    from bot.adapters.github.retry import GitHubUnavailable, RateLimited
    from bot.adapters.gitrepo import GitUnavailable, StaleBranch
    from bot.kit.jobs import Draining, QueueFull
    from bot.ocm.store import StoreUnavailable
    from bot.services.releases import RegistryUnavailable

    outages = [ClusterUnavailable, GitHubUnavailable, RateLimited, GitUnavailable, StaleBranch]
    outages += [Draining, QueueFull, StoreUnavailable, RegistryUnavailable]
    assert all(issubclass(o, Temporary) and not issubclass(o, Failure) for o in outages)


def test_a_failure_says_where():
    class Broken(Failure):
        pass

    located = Broken("unknown field `enviroment`")
    located.location = Location(".bootstrap/config.yaml", 3, 1)
    assert located.text == ".bootstrap/config.yaml:3:1: unknown field `enviroment`"
    assert Broken("no place").text == "no place"
    assert str(Location("a.yaml")) == "a.yaml" and str(Location("a.yaml", 2)) == "a.yaml:2"


def test_a_temporary_carries_when_to_try_again():
    assert Temporary("429", retry_after=30.0).retry_after == 30.0
    assert Temporary("unreachable").retry_after is None
