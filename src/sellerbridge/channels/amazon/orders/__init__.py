"""Amazon orders: which to import (rules), how they read in ERP terms (mapper), and the import
itself (importer)."""
