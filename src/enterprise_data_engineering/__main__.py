"""``python -m enterprise_data_engineering`` is the ``ede`` command."""

from __future__ import annotations

from enterprise_data_engineering.cli.app import main

if __name__ == "__main__":
    main()
