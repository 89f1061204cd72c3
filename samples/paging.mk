# samples/paging.elf: page tables mixing page sizes and permissions (introspection).
