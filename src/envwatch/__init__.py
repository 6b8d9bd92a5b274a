"""envwatch: smart environmental supervision platform (智慧环境监管平台)."""

__version__ = "0.1.0"
