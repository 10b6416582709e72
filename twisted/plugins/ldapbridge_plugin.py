"""twistd plugin: ``twistd -n ldapbridge --config bridge.conf``."""

from __future__ import annotations

import sys
from typing import Any

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


class Options(usage.Options):
    optParameters = [["config", "c", "bridge.conf", "Path to the config file."]]


@implementer(IServiceMaker, IPlugin)
class BridgeServiceMaker:
    tapname = "ldapbridge"
    description = "Serve a coworking space's members to PaperCut over LDAP."
    options = Options

    def makeService(self, options: Any) -> Any:
        """The bridge, logging to stdout as ``[logging]`` says (see README)."""
        from twisted.internet import reactor

        from ldapbridge import config
        from ldapbridge.directory.sources import SourceError
        from ldapbridge.service import logs
        from ldapbridge.service.app import make_service

        try:
            settings = config.load(options["config"])
            levels = logs.LogLevels(settings.logging.level)
            bridge = make_service(settings, reactor, levels)
        except (config.ConfigError, SourceError) as e:
            raise SystemExit(f"ldapbridge: {e}") from None

        # Hold on to the real stdout: twistd redirects sys.stdout into the
        # log once logging starts.
        observer = logs.make_observer(settings.logging, sys.stdout, levels)
        top = logs.ApplicationLogging(observer)
        bridge.setServiceParent(top)
        return top


service_maker = BridgeServiceMaker()
