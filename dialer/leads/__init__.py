"""Lead files in and out: import (CSV/XLSX, normalised and screened), export, sample files."""
