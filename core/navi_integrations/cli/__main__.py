"""``python -m navi_integrations.cli`` runs ``navi-int``."""

from . import main

main()
