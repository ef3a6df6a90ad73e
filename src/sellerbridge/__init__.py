"""sellerbridge: the open-source connector between a merchant's back office and Amazon."""

__version__ = "0.1.0.dev0"
