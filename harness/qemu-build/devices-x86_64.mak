# memmap-harness: only the boards the cases use
CONFIG_I440FX=y
CONFIG_Q35=y
# ACPI_X86 always builds hw/acpi/cxl.c, which links against hw/cxl; that
# needs the CXL type-3 device and the PCIe root port base type.
CONFIG_PXB=y
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
CONFIG_PCIE_PORT=y
